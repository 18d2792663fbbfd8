#!/usr/bin/env bash
# Packaging check (called by .ci/run; runnable alone): packs the NuGet packages, checks what is inside them, builds and
# runs samples/QuickStart against the packed packages from the local folder feed, installs the `glass` tool from that
# feed and runs it. Exits non-zero when any step fails, so a broken package fails CI.
# Everything it writes lies under artifacts/ (git-ignored); artifacts/packages is emptied first.
set -euo pipefail
cd "$(dirname "$0")/.."
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

feed=artifacts/packages            # the folder samples/NuGet.Config names as the Glass feed
work=artifacts/pack-check
rm -rf "$feed" "$work" samples/QuickStart/bin samples/QuickStart/obj
mkdir -p "$feed" "$work"
step() { echo "pack-check: $*"; }
fail() { echo "pack-check: FAILED: $*" >&2; exit 1; }

version=$(dotnet msbuild Glass.Kernels/Glass.Kernels.csproj -nologo -getProperty:Version)
[ -n "$version" ] || fail "could not read the version from Directory.Build.props"
step "packing version $version into $feed"
dotnet pack Glass.sln -c Release -o "$feed" -v q -nologo || fail "dotnet pack"

# What must be inside: the assembly, its XML docs (libraries), the README, the licence, the dependencies; symbols beside.
listing() { python3 -c 'import sys, zipfile; print("\n".join(zipfile.ZipFile(sys.argv[1]).namelist()))' "$1"; }
nuspec() { python3 -c 'import sys, zipfile; z = zipfile.ZipFile(sys.argv[1]); print(z.read(next(n for n in z.namelist() if n.endswith(".nuspec"))).decode())' "$1"; }
expect() { grep -qF -- "$2" <<<"$3" || fail "$1 lacks $2"; }
for id in Glass.Kernels Glass.Autodiff Glass.Models Glass.Cli; do
  pkg="$feed/$id.$version.nupkg"
  [ -f "$pkg" ] || fail "$pkg was not produced"
  [ -f "$feed/$id.$version.snupkg" ] || fail "$feed/$id.$version.snupkg (symbols) was not produced"
  files=$(listing "$pkg"); spec=$(nuspec "$pkg")
  expect "$pkg" "README.md" "$files"
  expect "$pkg (nuspec)" "<readme>README.md</readme>" "$spec"
  expect "$pkg (nuspec)" '<license type="expression">' "$spec"
  if [ "$id" = Glass.Cli ]; then
    expect "$pkg" "tools/net10.0/any/glass.dll" "$files"
    expect "$pkg" "tools/net10.0/any/DotnetToolSettings.xml" "$files"
  else
    expect "$pkg" "lib/net10.0/$id.dll" "$files"
    expect "$pkg" "lib/net10.0/$id.xml" "$files"
  fi
done
expect "Glass.Models (nuspec)" "<dependency id=\"Glass.Autodiff\" version=\"$version\"" "$(nuspec "$feed/Glass.Models.$version.nupkg")"
expect "Glass.Autodiff (nuspec)" "<dependency id=\"Glass.Kernels\" version=\"$version\"" "$(nuspec "$feed/Glass.Autodiff.$version.nupkg")"

# A fresh package folder, so the sample and the tool are restored from the packages just packed, never from a copy
# of the same version cached by an earlier run.
export NUGET_PACKAGES="$PWD/$work/nuget-packages"
step "building and running samples/QuickStart against Glass.Models $version from $feed"
dotnet run --project samples/QuickStart -c Release -p:GlassVersion="$version" || fail "samples/QuickStart"

step "installing the glass tool (Glass.Cli $version) from $feed"
dotnet tool install Glass.Cli --version "$version" --tool-path "$work/tool" --configfile samples/NuGet.Config >/dev/null \
  || fail "dotnet tool install Glass.Cli"
help=$("$work/tool/glass" --help) || fail "glass --help"
expect "glass --help" "sweep" "$help"
# One tiny run with plots: loads the tool's native plotting libraries.
"$work/tool/glass" run configs/smoke/manifold_s2_small.yaml --steps 2 --out "$work/runs" --device cpu --quiet \
  || fail "glass run from the installed tool"
ls "$work"/runs/*/plots/*.png >/dev/null 2>&1 || fail "glass run from the installed tool wrote no plots"
step "OK: 4 packages + symbols, sample, tool"
