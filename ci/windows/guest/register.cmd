@echo off
rem OpenVDP: prepare this Windows VM for ci/windows/run-windows-tests.sh.
rem Run once, from an elevated (Run as administrator) command prompt:
rem     D:\vdptest\register.cmd          (D: = the OVDPTEST CD)
rem Enables test signing, turns sleep off and creates the start-up task that
rem runs the checks whenever a test CD is attached; then shuts the VM down.
powershell.exe -NoProfile -ExecutionPolicy Bypass -File "%~dp0vdptest.ps1" -Mode Register
exit /b %errorlevel%
