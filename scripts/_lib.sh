# shellcheck shell=bash
# Helpers shared by scripts/setup-venv and scripts/test (sourced, not run).
#
# A fresh Debian machine may lack what these scripts need (python3-venv, PostgreSQL, Redis,
# Chromium). They install it with apt-get when they can: directly as root, through sudo when sudo
# exists. When neither works they stop and say exactly which packages to install and that root is
# needed, rather than half-working or failing later with an obscure error.

die() {
  printf '\nERROR: %s\n\n' "$*" >&2
  exit 1
}

# Prints the command prefix that runs a command as root ("" when already root, "sudo" or
# "sudo -n" when sudo exists). Returns 1 when there is no way to become root.
root_prefix() {
  if [ "$(id -u)" -eq 0 ]; then
    echo ""
  elif command -v sudo >/dev/null 2>&1; then
    # Without a terminal sudo cannot ask for a password: fail at once instead of hanging.
    if [ -t 0 ]; then echo "sudo"; else echo "sudo -n"; fi
  else
    return 1
  fi
}

# as_root WHAT CMD...: runs CMD as root, or stops with a message that says what to run as root.
as_root() {
  local what="$1" prefix
  shift
  if ! prefix="$(root_prefix)"; then
    die "$what needs root, and this is user $(id -un) without sudo. Run as root: $*"
  fi
  # shellcheck disable=SC2086  # the prefix is "", "sudo" or "sudo -n"
  $prefix "$@"
}

# apt_install WHY PACKAGE...: installs Debian packages, or stops saying exactly what to install.
apt_install() {
  local why="$1" prefix log
  shift
  if ! command -v apt-get >/dev/null 2>&1; then
    die "Marquee needs $why, which is missing. Install it with your package manager (Debian/Ubuntu" \
      "package names: $*) and run this again."
  fi
  if ! prefix="$(root_prefix)"; then
    die "Marquee needs $why: the Debian packages '$*' are missing, and installing them needs root" \
      "(this is user $(id -un), and sudo is not installed). As root run:" \
      "apt-get update && apt-get install -y $*   — then run this script again (or run it as root)."
  fi
  echo "==> installing $* ($why) with ${prefix:+$prefix }apt-get"
  log="$(mktemp)"
  # shellcheck disable=SC2086  # the prefix is "", "sudo" or "sudo -n"
  if [ -z "${MARQUEE_APT_UPDATED:-}" ]; then
    if ! $prefix apt-get update -qq >"$log" 2>&1; then
      cat "$log" >&2
      die "'${prefix:+$prefix }apt-get update' failed (output above). Install $* yourself, as root."
    fi
    export MARQUEE_APT_UPDATED=1
  fi
  # shellcheck disable=SC2086
  if ! $prefix env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >"$log" 2>&1; then
    tail -n 30 "$log" >&2
    die "'${prefix:+$prefix }apt-get install $*' failed (last lines above). Install $* yourself, as root."
  fi
  rm -f "$log"
}
