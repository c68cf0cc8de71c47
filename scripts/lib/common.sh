# Shared helpers of the progrpo scripts (sourced, not run).
# shellcheck shell=bash

die() { echo "progrpo: error: $*" >&2; exit 1; }
note() { echo "progrpo: $*" >&2; }

# Sets JAVA_HOME and JAVA to a JDK >= 25: $JAVA_HOME first, then /usr/lib/jvm/*.
find_jdk() {
  local cand v
  for cand in "${JAVA_HOME:-}" /usr/lib/jvm/*; do
    [[ -n "$cand" && -x "$cand/bin/javac" ]] || continue
    v=$("$cand/bin/java" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = //p')
    if [[ "${v%%.*}" =~ ^[0-9]+$ && "${v%%.*}" -ge 25 ]]; then
      export JAVA_HOME="$cand" JAVA="$cand/bin/java"
      export PATH="$JAVA_HOME/bin:$PATH"
      return 0
    fi
  done
  die "no JDK 25 or newer found (looked at \$JAVA_HOME and /usr/lib/jvm/*). Install one (e.g. Temurin 25) and set JAVA_HOME to it."
}

is_root() { [[ $(id -u) -eq 0 ]]; }

APT_UPDATED=0
apt_install() {
  command -v apt-get >/dev/null || die "missing packages: $*; this is not a Debian-like system, install them by hand"
  is_root || die "missing packages: $*; run 'sudo apt-get install $*' (or run this script as root)"
  if [[ $APT_UPDATED -eq 0 ]]; then
    note "apt-get update"
    DEBIAN_FRONTEND=noninteractive apt-get update -q >/dev/null || die "apt-get update failed"
    APT_UPDATED=1
  fi
  note "installing: $*"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$@" >/dev/null \
    || die "apt-get install $* failed"
}

have_pkg() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }

# The libblas.so.3 that libtorch resolves through Debian's alternatives.
active_blas() {
  local alt
  alt=$(update-alternatives --query libblas.so.3-x86_64-linux-gnu 2>/dev/null | sed -n 's/^Value: //p')
  [[ -n "$alt" ]] && readlink -f "$alt" || echo unknown
}

check_blas() {
  local b; b=$(active_blas)
  case "$b" in
    *openblas*|*mkl*|*blis*) note "BLAS: $b" ;;
    unknown) note "BLAS: could not determine the active libblas.so.3" ;;
    *)
      echo "================================================================================" >&2
      echo "progrpo: WARNING: libtorch will run matmul on the REFERENCE BLAS ($b)." >&2
      echo "  Measured here: 3.5 against 108 GFLOP/s for a 512x512 product. Install an optimised one:" >&2
      echo "  apt-get install libopenblas0-pthread" >&2
      echo "================================================================================" >&2 ;;
  esac
}

# libtorch's OpenMP threads spin-wait by default, which starves everything else on small machines.
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-PASSIVE}
