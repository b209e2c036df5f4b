#!/usr/bin/env bash
# install-tf.sh lays out the TensorFlow C runtime that the Go bindings link
# against, taken from the pinned PyPI wheel (no other download site is used).
#
#   build/install-tf.sh VERSION VENV PREFIX
#
# VENV   a Python virtual environment that gets tensorflow-cpu==VERSION; it
#        also serves the tests that cross-check our SavedModels in Python.
# PREFIX where lib/ and include/ go. The project-local prefix (.tf) links the
#        libraries from the venv; any other prefix (e.g. /usr/local) gets
#        copies and an ldconfig run, like TensorFlow's own C library install.
#
# It is idempotent: a run on a complete install only checks and exits.
set -euo pipefail

version=$1 venv=$2 prefix=$3
wheel="${TF_WHEEL:-tensorflow-cpu}"
stamp="$prefix/lib/.cyclegan-libtensorflow-version"

if [ ! -x "$venv/bin/python" ]; then
	echo "install-tf: creating Python venv $venv" >&2
	python3 -m venv "$venv" >&2
fi
have=$("$venv/bin/python" -c 'import importlib.metadata as m
for d in ("tensorflow-cpu", "tensorflow"):
    try:
        print(m.version(d)); break
    except m.PackageNotFoundError:
        pass' 2>/dev/null || true)
if [ "$have" != "$version" ]; then
	echo "install-tf: pip install $wheel==$version into $venv (have: ${have:-none})" >&2
	"$venv/bin/pip" install --disable-pip-version-check -q "$wheel==$version" >&2
fi

if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$version" ] &&
	[ -e "$prefix/lib/libtensorflow.so" ] && [ -e "$prefix/lib/libtensorflow_framework.so" ] &&
	[ -f "$prefix/include/tensorflow/c/c_api.h" ]; then
	exit 0
fi

src=$("$venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')/tensorflow
for f in libtensorflow_cc.so.2 libtensorflow_framework.so.2 include/tensorflow/c/c_api.h; do
	[ -e "$src/$f" ] || { echo "install-tf: $src/$f missing from the wheel" >&2; exit 1; }
done

echo "install-tf: laying out $prefix (lib, include) from $src" >&2
mkdir -p "$prefix/lib" "$prefix/include"
local_prefix=0
case "$(cd "$prefix" && pwd -P)" in "$(cd "$(dirname "$venv")" && pwd -P)"*) local_prefix=1 ;; esac
for lib in libtensorflow_cc.so.2 libtensorflow_framework.so.2; do
	if [ $local_prefix = 1 ]; then
		ln -sfnr "$src/$lib" "$prefix/lib/$lib"
	else
		install -m 0755 "$src/$lib" "$prefix/lib/$lib.tmp"
		mv -f "$prefix/lib/$lib.tmp" "$prefix/lib/$lib"
	fi
done
# The names the linker looks for: -ltensorflow (the Go bindings) and
# -ltensorflow_framework (our internal/tfrt, for the C symbols that live there).
ln -sfn libtensorflow_cc.so.2 "$prefix/lib/libtensorflow.so"
ln -sfn libtensorflow_framework.so.2 "$prefix/lib/libtensorflow_framework.so"

# The C API headers and the few they include, as TensorFlow's C library ships them.
inc="$src/include"
(cd "$inc" && find tensorflow/c -name '*.h' &&
	ls tensorflow/core/platform/ctstring*.h tsl/platform/ctstring*.h xla/tsl/c/*.h) |
	while read -r h; do
		install -D -m 0644 "$inc/$h" "$prefix/include/$h"
	done

if [ $local_prefix = 0 ] && command -v ldconfig >/dev/null; then
	ldconfig
fi
echo "$version" >"$stamp"
echo "install-tf: TensorFlow $version ready in $prefix" >&2
