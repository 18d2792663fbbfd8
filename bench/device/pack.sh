#!/usr/bin/env bash
# Packs `glass` and the standalone test runner (tests/Glass.Tests, Support/StandaloneRunner.cs) self-contained for
# linux-x64 into .device/glass-device.tar.xz — for the lent GPU machine, which has CUDA drivers but no .NET.
# .device/ is added to .git/info/exclude, so the archive is never committed; the device tool carries it:
#   run(command="bash bench/device/run.sh", carry=[".device/glass-device.tar.xz"])
# Both apps are published into ONE folder so they share a single copy of the runtime (keeps the archive small).
set -euo pipefail
cd "$(dirname "$0")/../.."
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
mkdir -p .git/info
grep -qxF '.device/' .git/info/exclude 2>/dev/null || echo '.device/' >> .git/info/exclude
rm -rf .device/pkg && mkdir -p .device/pkg
common=(-c Release -r linux-x64 --self-contained -p:InvariantGlobalization=true -p:UseAppHost=true)
dotnet publish tests/Glass.Tests "${common[@]}" -o .device/pkg --nologo -v q
dotnet publish Glass.Runner "${common[@]}" -o .device/pkg --nologo -v q
rm -f .device/pkg/*.pdb
tar -C .device/pkg -cJf .device/glass-device.tar.xz .
size=$(stat -c %s .device/glass-device.tar.xz)
echo "packed .device/glass-device.tar.xz: $((size / 1048576)) MiB ($(du -sh .device/pkg | cut -f1) unpacked)"
if [ "$size" -gt $((64 * 1048576)) ]; then echo "error: the archive is over the device tool's 64 MiB carry limit" >&2; exit 1; fi
