// The reaper watchdog's first stage: a POSIX shell that holds the owner's pipe and starts the Node
// watchdog only when there is something to do. Why: a Node process's start is ~100 ms of CPU, and
// it ran while the daemon started the first container of every environment, on the same cores.
// With the holder the first `up` of a process pays a shell's start (~1 ms) instead; Node starts
// when an owner dies with sessions guarded, which is when it is needed (docs/cleanup.md).
import { existsSync } from "node:fs";
import { WATCHDOG_READY } from "./watchdog-protocol.js";

/**
 * Arguments: $1 the owner's pid, $2 Node, $3 the watchdog script.
 *
 * - It prints the ready line at once, then reads the pipe line by line. A guard or lease line goes
 *   into its book; a release drops that id's entries. A release is matched against the start of
 *   a line exactly as `encodeMessage` writes it (`{"op":"guard","session":"<id>",`), so the
 *   `session` field inside a lease's own object never matches, and the book stays as large as the
 *   sessions still guarded.
 * - At end-of-file (the owner exited or died) an empty book exits without starting Node.
 *   Otherwise it execs the Node watchdog (same pid) with the book on fd 3 and the pipe, at its
 *   end, on stdin: the watchdog replays the book and reaps.
 * - A background loop checks once a second that the owner lives (its `sleep` is killed with it,
 *   so the holder leaves no process behind). Should the owner be gone while
 *   the pipe stays open (a descendant holding it), the shell hands over the same way, the pipe
 *   still open on stdin: the Node watchdog reads what is left in it and its own owner check
 *   decides, as it always did.
 * - `BERTH_REAPER_LOG` gets one line per message and the exit without work.
 */
export const HOLDER_SCRIPT = `owner=$1 node=$2 script=$3
log() {
  [ -n "$BERTH_REAPER_LOG" ] || return 0
  printf '%s watchdog %s (owner %s): %s\\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" $$ "$owner" "$1" >>"$BERTH_REAPER_LOG" 2>/dev/null
}
trap '' INT HUP PIPE
gone=
trap 'gone=1' USR1
(
  trap - USR1
  trap 'kill $nap 2>/dev/null; wait $nap; exit 0' TERM
  while kill -0 "$owner" 2>/dev/null; do
    sleep 1 &
    nap=$!
    wait $nap
  done
  kill -USR1 $$ 2>/dev/null
) </dev/null >/dev/null 2>&1 &
checker=$!
echo "${WATCHDOG_READY} $$"
book=
while IFS= read -r line; do
  op=\${line#'{"op":"'}
  op=\${op%%'"'*}
  case $op in
    guard | lease)
      book="$book$line
"
      id=\${line#*'"session":"'}
      log "$op \${id%%'"'*}"
      ;;
    release)
      s=\${line#'{"op":"release","session":"'}
      s=\${s%'"}'}
      log "release $s"
      kept=
      while IFS= read -r entry; do
        case $entry in
          '{"op":"guard","session":"'"$s"'",'* | '{"op":"lease","session":"'"$s"'",'* | '') ;;
          *) kept="$kept$entry
" ;;
        esac
      done <<BOOK
$book
BOOK
      book=$kept
      ;;
    *) log "ignored a malformed message" ;;
  esac
done
kill "$checker" 2>/dev/null
wait "$checker"
if [ -z "$book" ] && [ -z "$gone" ]; then
  log "owner closed the pipe; no session guarded, exiting"
  exit 0
fi
why=eof
[ -n "$gone" ] && why=owner-gone
exec "$node" "$script" --owner "$owner" --book-fd 3 --why "$why" 3<<BOOK
$book
BOOK
`;

/** The shell the holder runs in; without one (Windows) the Node watchdog starts at once. */
export function holderShell(): string | undefined {
  return process.platform !== "win32" && existsSync("/bin/sh") ? "/bin/sh" : undefined;
}
