#!/bin/sh
# wine-run.sh PREFIX PROGRAM [ARGS]: run a Windows console program under
# Wine, headless and quiet, in the project's own prefix. Wine's exit status
# is the program's.
prefix=$1
shift
export WINEPREFIX="$prefix" WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml=" DISPLAY=
exec wine "$@"
