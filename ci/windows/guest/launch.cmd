@echo off
rem OpenVDP: started at every boot by the scheduled task "OpenVDP-Test" (as
rem SYSTEM; created by register.cmd). Finds the OpenVDP test CD, whose drive
rem letter can change from boot to boot, and runs its checks. Without a test
rem CD it does nothing. Output: %SystemDrive%\OpenVDP-Test\launch.log
setlocal
call :main >"%SystemDrive%\OpenVDP-Test\launch.log" 2>&1
exit /b %errorlevel%

:main
rem CD drives can appear a little after the task starts: look for a minute.
for /l %%n in (1,1,30) do (
	for %%d in (D E F G H I J K L M N O P Q R S T U V W X Y Z) do (
		if exist %%d:\vdptest\vdptest.ps1 (
			echo OpenVDP test CD on %%d:
			powershell.exe -NoProfile -NonInteractive -ExecutionPolicy Bypass -File %%d:\vdptest\vdptest.ps1 -Mode Test
			goto :eof
		)
	)
	rem timeout.exe needs a console; ping is the portable sleep.
	ping -n 3 127.0.0.1 >nul
)
echo no OpenVDP test CD found
exit /b 0
