#!/usr/bin/env bash
# Build the FaceDeck PyInstaller bundle in a fresh virtual environment, then smoke-test it.
#
#   scripts/build_bundle.sh                  # CPU, one folder, smoke-tested
#   scripts/build_bundle.sh --flavour gpu    # NVIDIA: onnxruntime-gpu with its CUDA/cuDNN wheels
#   scripts/build_bundle.sh --onefile        # one self-extracting file
#   options: --out DIR (where the bundle goes, outside the source tree; default facedeck-dist
#            next to the checkout),
#            --work DIR (venv, build folder, smoke files; default a temporary folder),
#            --no-smoke
#
# Nothing is written into the source tree: the project is installed from a copy of it, and
# PyInstaller's work and dist folders are elsewhere. The smoke test (scripts/smoke_bundle.py)
# runs the bundle with nothing of the source tree on the path and prints its size and
# start-up times next to the pip install's (the venv built here).
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
flavour=cpu
onefile=()
out="$(dirname "$root")/facedeck-dist"
work=""
smoke=1
while [ $# -gt 0 ]; do
    case "$1" in
        --flavour) flavour="$2"; shift 2 ;;
        --onefile) onefile=(--onefile); shift ;;
        --out) out="$2"; shift 2 ;;
        --work) work="$2"; shift 2 ;;
        --no-smoke) smoke=0; shift ;;
        -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
        *) echo "build_bundle.sh: unknown option $1" >&2; exit 2 ;;
    esac
done
case "$flavour" in cpu|gpu) ;; *) echo "build_bundle.sh: --flavour is cpu or gpu" >&2; exit 2 ;; esac
case "$out" in "$root"|"$root"/*) echo "build_bundle.sh: --out must be outside the source tree" >&2; exit 2 ;; esac
if [ -z "$work" ]; then
    # a temporary one goes when the script ends (a given --work stays, venv and all, for reuse)
    work="$(mktemp -d -t facedeck-bundle-XXXXXX)"
    trap 'chmod -R u+w "$work" 2>/dev/null; rm -rf "$work"' EXIT
fi
mkdir -p "$work" "$out"
started=$SECONDS
tree_state() { git -C "$root" status --porcelain --ignored 2>/dev/null || true; }
before="$(tree_state)"

# A copy of the tree (tracked and untracked files, no build outputs), so pip's in-tree
# build writes its build/ and egg-info there and not into the checkout.
src="$work/src"
rm -rf "$src" && mkdir -p "$src"
tar -C "$root" --exclude=.git --exclude=build --exclude=dist --exclude='*.egg-info' \
    --exclude=__pycache__ --exclude=.venv -cf - . | tar -C "$src" -xf -

venv="$work/venv"
if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
    "$venv/bin/python" -m pip install --quiet --upgrade pip
fi
# What the bundle runs: the engine, the window, the self-hosted server and the remote client
# (not the RunPod worker, which ships as a Docker image, nor the dev tools)
"$venv/bin/python" -m pip install --quiet "$src[$flavour,gui,server,remote]" "pyinstaller>=6.10,<7"
echo "build_bundle: environment ready after $((SECONDS - started)) s"

cd "$work"
"$venv/bin/pyinstaller" --noconfirm --log-level WARN --distpath "$out" --workpath "$work/pyinstaller" \
    "$src/build.spec" -- --flavour "$flavour" "${onefile[@]}"
echo "build_bundle: bundle built after $((SECONDS - started)) s"

version="$("$venv/bin/python" -c 'from importlib.metadata import version; print(version("facedeck"))')"
bundle="$out/facedeck-$version-$flavour"  # a folder, or with --onefile the one file
echo "build_bundle: $bundle"
if [ "$smoke" = 1 ]; then
    # the stand-in models are built with the source copy's test helpers, in this venv
    "$venv/bin/python" "$src/scripts/smoke_bundle.py" "$bundle" --source "$src" --pip-python "$venv/bin/python" \
        --work "$work/smoke"
fi
if [ "$(tree_state)" != "$before" ]; then
    echo "build_bundle: the build wrote into the source tree:" >&2
    diff <(echo "$before") <(tree_state) >&2 || true
    exit 1
fi
echo "build_bundle: done after $((SECONDS - started)) s"
