# shellcheck shell=bash
# A terminal for tests that need one (tmux, 160x40, its socket in $T): programs that draw
# only on a terminal (menus, the monitor, status lines) and keys typed into them
# (sourced by testlib.bash).
T_TERM_SOCK=$T/tmux.sock

# t_term_require: skip the test (exit 77) without tmux
t_term_require() {
  command -v tmux >/dev/null 2>&1 || t_skip "tmux is missing (scripts/setup.sh installs it)"
}
# t_term_start COMMAND: run COMMAND in the terminal, in the current folder; its exit code
# lands in $T/term.rc, and the window stays (read) until the test exits
t_term_start() {
  rm -f "$T/term.rc"
  unset TMUX
  tmux -S "$T_TERM_SOCK" new-session -d -s term -x 160 -y 40 "$1; echo \$? >'$T/term.rc'; read -r _" ||
    { echo "tmux cannot start a terminal" >&2; exit 1; }
  t_at_exit 'tmux -S "$T_TERM_SOCK" kill-server 2>/dev/null'
}
# t_term_screen: what the terminal shows, with what scrolled away
t_term_screen() { tmux -S "$T_TERM_SOCK" capture-pane -p -J -t term -S - 2>/dev/null; }
# t_term_wait TEXT: wait (bounded, about 30 s) until the terminal shows TEXT; an assertion
# only when it fails
t_term_wait() {
  for _ in $(seq 1 600); do
    [[ $(t_term_screen) == *"$1"* ]] && return 0
    [[ -s $T/term.rc ]] && break
    sleep 0.05
  done
  t_fail "the terminal never showed '$1'; it shows: $(t_term_screen | tail -n 20)"
  return 1
}
# t_term_keys KEY...: type (tmux send-keys: "Enter", "C-]", or -l TEXT)
t_term_keys() { tmux -S "$T_TERM_SOCK" send-keys -t term "$@"; }
# t_term_end: wait (bounded, about 90 s) for the command to end; print its exit code
t_term_end() {
  for _ in $(seq 1 1800); do
    [[ -s $T/term.rc ]] && break
    sleep 0.05
  done
  cat "$T/term.rc" 2>/dev/null || echo "none"
}
