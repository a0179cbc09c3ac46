"""Search logs on the hosts over SSH: counts per host and the first matching lines (`mode: search`), or
error lines grouped into templates (`mode: errors`), or the last lines of each source (`mode: tail`).

Sources come from `logs.sources` per service: file globs on the host (rotated and `.gz` files
included; `{host}` in a glob is replaced by the inventory name) or a journald unit. The search runs ON
the host with standard tools, so gigabytes of logs never cross the wire and the bot's memory stays
flat: `grep -F` (the pattern is a fixed string, passed as an argument, never interpreted by a shell
or as a regex) or `gzip -cd | grep`, then one awk that keeps only lines inside the window (it reads
ISO 8601, nginx/Apache `[25/Nov/2026:13:55:01 +0000]`, nginx error-log `2026/11/25 13:55:01` and
syslog `Nov 25 13:55:01` stamps; lines without a stamp are kept), counts them per file and prints the
first few. Files last written before the window starts are not read at all, and since logs are written
in time order, once a line (or a file's first line) is inside the window the lines after it are not
checked one by one. In `errors` mode the awk
folds lines into coarse keys (digits and hex runs collapsed) with a count and one example each; the
bot then groups those into templates, Drain-style (logtemplates.py).
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field

from opsbot.config import Config
from opsbot.config.models import LogSource
from opsbot.core.action import Action, ExecutionContext, Target
from opsbot.core.durations import format_duration
from opsbot.core.reply import Reply, Table
from opsbot.executors.fields import BadFields, LogsFields, read_fields
from opsbot.executors.logtemplates import Drain
from opsbot.executors.ssh import HostResult, SSHExecutor
from opsbot.i18n import _, ngettext
from opsbot.redact import redact

ERROR_WORDS = "error|fatal|crit|emerg|exception|panic|traceback|segfault|oom-kill"
LINE_WIDTH = 400  # characters of a line kept on the host
MAX_KEYS = 500  # distinct error keys counted per host (the rest: "other")
TOP_TEMPLATES = 10

# The host side. Arguments: awk program, mode, pattern, window seconds, max lines, context lines, then
# sources as `f:<glob>` or `j:<journald unit>`. Everything user-given arrives as an argument.
SCRIPT = (
    r"""
prog=$1 mode=$2 pat=$3 win=$4 max=$5 ctx=$6; shift 6
LC_ALL=C; export LC_ALL
d=$(date '+%s %z %Y'); OL_NOW=${d%% *}; OL_YEAR=${d##* }; d=${d#* }; OL_TZ=${d% *}
OL_SINCE=$((OL_NOW - win))
OL_MODE=$mode OL_PAT=$pat OL_MAX=$max OL_CTX=$ctx
export OL_NOW OL_TZ OL_YEAR OL_SINCE OL_MODE OL_PAT OL_MAX OL_CTX
g() {
  if [ "$mode" = errors ]; then grep -a -i -E -e '"""
    + ERROR_WORDS
    + r"""' "$@"
  elif [ "$ctx" -gt 0 ]; then grep -a -F -C "$ctx" -e "$pat" "$@"
  else grep -a -F -e "$pat" "$@"; fi
}
IFS=
for src do
  case $src in
  j:*) u=${src#j:}
    printf '\001F journal:%s\n' "$u"
    journalctl -q --no-pager -o short-iso -u "$u" --since "@$OL_SINCE" 2>/dev/null | g ;;
  f:*) found=
    for f in ${src#f:}; do
      [ -f "$f" ] || continue
      found=1
      [ -r "$f" ] || { printf '\001E %s\n' "$f"; continue; }
      m=$(stat -c %Y -- "$f" 2>/dev/null) || m=$OL_NOW
      if [ "$m" -lt "$OL_SINCE" ]; then printf '\001S %s\n' "$f"; continue; fi
      case $f in
      *.gz) printf '\001F %s\n\002%s\n' "$f" "$(gzip -cd -- "$f" 2>/dev/null | head -n 1)"
        gzip -cd -- "$f" 2>/dev/null | g ;;
      *) printf '\001F %s\n\002%s\n' "$f" "$(head -n 1 -- "$f")"
        g -- "$f" ;;
      esac
    done
    [ -n "$found" ] || printf '\001X %s\n' "${src#f:}" ;;
  esac
done | awk "$prog"
"""
)

AWK = (
    r"""
function days(y, m, d) { if (m <= 2) { y--; m += 9 } else m -= 3
  return 365 * y + int(y / 4) - int(y / 100) + int(y / 400) + int((153 * m + 2) / 5) + d - 719469 }
function zone(z,  s) { if (z == "") return LTZ; if (z == "Z" || z == "UTC" || z == "GMT") return 0
  s = substr(z, 1, 1) == "-" ? -1 : 1; gsub(/:/, "", z)
  return s * (substr(z, 2, 2) * 3600 + substr(z, 4, 2) * 60) }
function at(y, mo, d, h, mi, s, z) { return days(y, mo, d) * 86400 + h * 3600 + mi * 60 + s - z }
function ts(l,  t, r, z, e) {
  TS = 0; TL = 0
  if (substr(l, 5, 1) == "-" && substr(l, 14, 1) == ":" && substr(l, 1, 19) ~ /^[0-9-]+[T ][0-9:]+$/) {
    TS = 1; TL = 19 }                                         # the common case, without a regex search
  else if (match(l, /[12][0-9][0-9][0-9]-[01][0-9]-[0-3][0-9][T ][0-2][0-9]:[0-5][0-9]:[0-6][0-9]/)) {
    TS = RSTART; TL = RLENGTH }
  if (TL) {
    t = substr(l, TS, TL); r = substr(l, TS + TL, 16); z = ""
    if (match(r, /^[.,][0-9]+/)) { TL += RLENGTH; r = substr(r, RLENGTH + 1) }
    if (match(r, /^ ?(Z|UTC|GMT|[+-][0-9][0-9]:?[0-9][0-9])/)) { z = substr(r, RSTART, RLENGTH); TL += RLENGTH; sub(/^ /, "", z) }
    return at(substr(t, 1, 4) + 0, substr(t, 6, 2) + 0, substr(t, 9, 2) + 0, substr(t, 12, 2) + 0,
              substr(t, 15, 2) + 0, substr(t, 18, 2) + 0, zone(z)) }
  if (match(l, /\[[0-3][0-9]\/[A-Z][a-z][a-z]\/[12][0-9][0-9][0-9]:[0-2][0-9]:[0-5][0-9]:[0-6][0-9] [+-][0-9][0-9][0-9][0-9]\]/)) {
    TS = RSTART; TL = RLENGTH; t = substr(l, RSTART + 1, RLENGTH - 2)
    return at(substr(t, 8, 4) + 0, MON[substr(t, 4, 3)], substr(t, 1, 2) + 0, substr(t, 13, 2) + 0,
              substr(t, 16, 2) + 0, substr(t, 19, 2) + 0, zone(substr(t, 22, 5))) }
  if (match(l, /^[12][0-9][0-9][0-9]\/[01][0-9]\/[0-3][0-9] [0-2][0-9]:[0-5][0-9]:[0-6][0-9]/)) {
    TS = 1; TL = RLENGTH
    return at(substr(l, 1, 4) + 0, substr(l, 6, 2) + 0, substr(l, 9, 2) + 0, substr(l, 12, 2) + 0,
              substr(l, 15, 2) + 0, substr(l, 18, 2) + 0, LTZ) }
  if (match(l, /^[A-Z][a-z][a-z] [ 0-3][0-9] [0-2][0-9]:[0-5][0-9]:[0-6][0-9]/) && (substr(l, 1, 3) in MON)) {
    TS = 1; TL = RLENGTH
    e = at(YEAR, MON[substr(l, 1, 3)], substr(l, 5, 2) + 0, substr(l, 8, 2) + 0, substr(l, 11, 2) + 0, substr(l, 14, 2) + 0, LTZ)
    if (e > NOW + 86400) e = at(YEAR - 1, MON[substr(l, 1, 3)], substr(l, 5, 2) + 0, substr(l, 8, 2) + 0,
                                substr(l, 11, 2) + 0, substr(l, 14, 2) + 0, LTZ)
    return e }
  return -1 }
function cut(s) { gsub(/\t/, " ", s); return length(s) > WIDTH ? substr(s, 1, WIDTH) " [cut]" : s }
function key(l) {
  if (TL > 0) l = substr(l, 1, TS - 1) " " substr(l, TS + TL)
  if (substr(l, 1, 1) == "{" && match(l, /"(msg|message)" *: *"[^"]*"/)) {
    l = substr(l, RSTART, RLENGTH); sub(/^"(msg|message)" *: *"/, "", l); sub(/"$/, "", l) }
  gsub(/"[^"]*"/, "\"\"", l); gsub(/[0-9]+/, "0", l); gsub(/[0-9a-fA-F]*0[0-9a-fA-F]*/, "0", l)
  gsub(/[ \t]+/, " ", l); return substr(l, 1, 200) }
BEGIN { split("Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec", mn, " "); for (i = 1; i <= 12; i++) MON[mn[i]] = i
  NOW = ENVIRON["OL_NOW"] + 0; SINCE = ENVIRON["OL_SINCE"] + 0; YEAR = ENVIRON["OL_YEAR"] + 0
  LTZ = 0; LTZ = zone(ENVIRON["OL_TZ"]); MODE = ENVIRON["OL_MODE"]; PAT = ENVIRON["OL_PAT"]
  MAX = ENVIRON["OL_MAX"] + 0; CTX = ENVIRON["OL_CTX"] + 0; WIDTH = """
    + str(LINE_WIDTH)
    + """; KMAX = """
    + str(MAX_KEYS)
    + r"""
  F = "-"; nf = 0; keys = 0; other = 0 }
/^\001/ { k = substr($0, 2, 1); F = substr($0, 4)
  if (k == "F") { FILES[++nf] = F; CNT[F] = 0; OLD[F] = 0; SHOWN[F] = 0; NP = 0; AFTER = 0; FRESH = F ~ /^journal:/ }
  else print k "\t" F
  next }
/^\002/ { FRESH = ts(substr($0, 2)) >= SINCE; next }
MODE == "errors" { t = ts($0); if (t >= 0 && t < SINCE) { OLD[F]++; next }
  CNT[F]++; k = key($0)
  if (k in N) N[k]++
  else if (keys < KMAX) { keys++; N[k] = 1; EX[k] = cut($0); EF[k] = F }
  else other++
  next }
CTX > 0 && $0 == "--" { NP = 0; next }
CTX == 0 || index($0, PAT) {
  if (!FRESH) { t = ts($0); if (t >= 0 && t < SINCE) { OLD[F]++; NP = 0; next }
    if (t >= 0) FRESH = 1 }                      # lines are in time order: the rest is inside the window
  CNT[F]++
  if (SHOWN[F] < MAX) { for (i = 1; i <= NP; i++) print "C\t" F "\t" cut(P[i])
    NP = 0; print "M\t" F "\t" cut($0); SHOWN[F]++; AFTER = CTX }
  else AFTER = 0
  next }
AFTER > 0 { print "C\t" F "\t" cut($0); AFTER--; next }
{ if (NP >= CTX) { for (i = 1; i < NP; i++) P[i] = P[i + 1]; NP-- }
  P[++NP] = $0 }
END { for (i = 1; i <= nf; i++) print "N\t" FILES[i] "\t" CNT[FILES[i]] "\t" OLD[FILES[i]]
  for (k in N) print "T\t" N[k] "\t" EF[k] "\t" EX[k]
  if (other) print "O\t" other }
"""
)


# `mode: tail`: the last lines of each source: the newest file of a glob (not the rotated .gz ones) or
# the journald unit. Arguments: line count, then sources as for SCRIPT.
TAIL_SCRIPT = r"""
n=$1; shift
IFS=
for src do
  case $src in
  j:*) printf '\001F journal:%s\n' "${src#j:}"
    journalctl -q --no-pager -o short-iso -u "${src#j:}" -n "$n" 2>/dev/null ;;
  f:*) newest=
    for f in ${src#f:}; do
      case $f in *.gz) continue ;; esac
      [ -f "$f" ] || continue
      if [ -z "$newest" ] || [ "$f" -nt "$newest" ]; then newest=$f; fi
    done
    if [ -z "$newest" ]; then printf '\001X %s\n' "${src#f:}"; continue; fi
    [ -r "$newest" ] || { printf '\001E %s\n' "$newest"; continue; }
    printf '\001F %s\n' "$newest"
    tail -n "$n" -- "$newest" ;;
  esac
done
"""
MAX_TAIL = 200  # lines per source, whatever the rule allows


def tail_command(lines: int, sources: list[str]) -> str:
    args = [str(max(1, min(MAX_TAIL, int(lines)))), *sources]
    return "sh -c " + shlex.quote(TAIL_SCRIPT) + " opsbot-tail " + " ".join(shlex.quote(a) for a in args)


def parse_tail(host: str, text: str) -> HostLogs:
    """The tail script's output: a marker line per source, then its lines."""
    out = HostLogs(host=host)
    current = None
    for line in text.splitlines():
        if line.startswith("\001"):
            kind, _, rest = line[1:].partition(" ")
            if kind == "F":
                current = rest
                out.lines.setdefault(current, [])
                out.counts[current] = 0
            else:
                {"E": out.unreadable, "X": out.missing}.get(kind, out.missing).append(rest)
            continue
        if current is not None:
            body = line.replace("\t", " ")
            out.lines[current].append(("M", body if len(body) <= LINE_WIDTH else body[:LINE_WIDTH] + " [cut]"))
            out.counts[current] += 1
    return out


def remote_command(
    mode: str, pattern: str, window_seconds: int, max_lines: int, context: int, sources: list[str]
) -> str:
    """The command the host runs: a fixed script, with every variable part as a quoted argument."""
    args = [AWK, mode, pattern, str(int(window_seconds)), str(max_lines), str(context), *sources]
    return "sh -c " + shlex.quote(SCRIPT) + " opsbot-logs " + " ".join(shlex.quote(a) for a in args)


_ROTATION = re.compile(r"\.(\d+)(?:\.gz)?$")


def _age_rank(path: str) -> int:
    """Rotated files first (oldest, highest number, first), the live file last: chronological order."""
    m = _ROTATION.search(path)
    return -int(m.group(1)) if m else 0


@dataclass
class HostLogs:
    """What one host reported."""

    host: str
    counts: dict[str, int] = field(default_factory=dict)  # file -> matching lines in the window
    older: dict[str, int] = field(default_factory=dict)  # file -> matching lines before the window
    lines: dict[str, list[tuple[str, str]]] = field(default_factory=dict)  # file -> [(M|C, text)]
    skipped: list[str] = field(default_factory=list)  # not read: last written before the window
    unreadable: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)  # globs that matched nothing
    groups: list[tuple[int, str, str]] = field(default_factory=list)  # errors: (count, file, example)
    other: int = 0
    fault: str | None = None

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def ordered_lines(self) -> list[tuple[str, str, str]]:
        return [(f, kind, text) for f in sorted(self.lines, key=_age_rank) for kind, text in self.lines[f]]


def parse_output(host: str, text: str) -> HostLogs:
    out = HostLogs(host=host)
    for line in text.splitlines():
        kind, _, rest = line.partition("\t")
        if kind in ("M", "C"):
            f, _, body = rest.partition("\t")
            out.lines.setdefault(f, []).append((kind, body))
        elif kind == "N":
            f, count, older = rest.rsplit("\t", 2)
            out.counts[f] = int(count)
            out.older[f] = int(older)
        elif kind == "T":
            count, f, example = rest.split("\t", 2)
            out.groups.append((int(count), f, example))
        elif kind == "O":
            out.other = int(rest)
        elif kind in ("S", "E", "X"):
            {"S": out.skipped, "E": out.unreadable, "X": out.missing}[kind].append(rest)
    return out


def _short(path: str) -> str:
    return path.rsplit("/", 1)[-1]


class LogsExecutor:
    name = "logs"

    def __init__(self, config: Config, ssh: SSHExecutor | None = None):
        """`ssh`: an SSHExecutor whose connection pool to share (default: a pool of its own)."""
        self.config = config
        self._own_ssh = ssh is None
        self.ssh = ssh or SSHExecutor(config)

    def close(self) -> None:
        if self._own_ssh:
            self.ssh.close()

    # -------------------------------------------------------------- which hosts, which sources

    def _services_on(self, host: str) -> set[str]:
        inv = self.config.inventory
        return (
            set(inv.hosts[host].services)
            | {d.service for d in inv.deployments.values() if d.host == host and d.service}
            if host in inv.hosts
            else set()
        )

    def _targets(self, action: Action, service: str | None) -> list[Target]:
        if action.targets:
            return list(action.targets)
        return [
            Target.of(self.config, name)
            for name in self.config.inventory.hosts
            if service is None or service in self._services_on(name)
        ]

    def _sources(self, target: Target, service: str | None) -> list[tuple[str, LogSource]]:
        sources = self.config.logs.sources
        if service is not None:
            return [(service, sources[service])] if service in sources else []
        runs = self._services_on(target.name) | set(target.services)
        return [(name, src) for name, src in sources.items() if not runs or name in runs]

    @staticmethod
    def _source_args(target: Target, sources: list[tuple[str, LogSource]]) -> list[str]:
        args = []
        for _name, src in sources:
            args += [f"f:{g.replace('{host}', target.name)}" for g in src.files]
            if src.journald:
                args.append(f"j:{src.journald}")
        return args

    # -------------------------------------------------------------- run

    def run(self, action: Action, ctx: ExecutionContext) -> Reply:
        try:
            mode = read_fields(LogsFields, action).mode
        except BadFields as e:
            return Reply.error(str(e))
        pattern = str(action.params.get("pattern") or "")
        if mode == "search" and not pattern:
            return Reply.error(_("Tell me what to search for."))
        service = action.params.get("service")
        if service is not None and service not in self.config.logs.sources:
            return Reply.error(
                _(
                    "No log source is configured for {service}; add one under logs.sources.{service} "
                    "(files or a journald unit)."
                ).format(service=service)
            )
        window = int(action.params.get("window_seconds") or 3600)
        candidates = self._targets(action, service)
        per_host = {t.name: self._source_args(t, self._sources(t, service)) for t in candidates}
        targets = [t for t in candidates if per_host[t.name]]
        if not targets:
            return Reply.error(_("No log sources apply to these hosts; configure logs.sources for their services."))
        if mode == "tail":
            return self._tail(targets, per_host, int(action.params.get("lines") or 50), service, ctx)
        logs_cfg = self.config.logs
        commands = {
            t.name: remote_command(mode, pattern or "", window, logs_cfg.max_lines, logs_cfg.context, per_host[t.name])
            for t in targets
        }
        results = self.ssh.run_many(targets, lambda t: commands[t.name], progress=ctx.progress)
        reports = [self._report(r) for r in results]
        where = _("{service} logs").format(service=service) if service else _("logs")
        span = format_duration(window)
        if mode == "errors":
            return self._errors_reply(reports, where, span)
        return self._search_reply(reports, pattern, where, span)

    def _tail(
        self,
        targets: list[Target],
        per_host: dict[str, list[str]],
        lines: int,
        service: str | None,
        ctx: ExecutionContext,
    ) -> Reply:
        results = self.ssh.run_many(targets, lambda t: tail_command(lines, per_host[t.name]), progress=ctx.progress)
        reports = [self._report(r, parse_tail) for r in results]
        failed = [r for r in reports if r.fault]
        if len(failed) == len(reports):
            return Reply.error(" ".join(_ends(r.fault or "") for r in failed[:3]))
        out = []
        for rep in reports:
            for f, _kind, body in rep.ordered_lines():
                out.append(f"{rep.host} {_short(f)}: {body}" if len(reports) > 1 else body)
        shown = sum(r.total for r in reports)
        text = ngettext("{count} line", "{count} lines", shown).format(count=shown)
        if failed:
            text += " " + _("({count} could not be read)").format(count=len(failed))
        tables = (
            [self._table(reports, _("lines"))]
            if len(reports) > 1 or failed or any(r.missing or r.unreadable for r in reports)
            else []
        )
        return Reply(text=text, tables=tables, code=redact("\n".join(out)) or None)

    @staticmethod
    def _report(r: HostResult, parse=None) -> HostLogs:
        if r.fault:
            return HostLogs(host=r.target.name, fault=r.fault)
        parse = parse or parse_output
        if r.timed_out:
            report = parse(r.target.name, r.stdout)
            report.fault = _("The search on {host} timed out").format(host=r.target.name)
            return report
        if not r.ok:
            detail = (r.stderr.strip().splitlines() or [_("no message")])[-1]
            return HostLogs(
                host=r.target.name,
                fault=_("The search on {host} failed (exit {code}: {detail})").format(
                    host=r.target.name, code=r.exit_code, detail=detail
                ),
            )
        return parse(r.target.name, r.stdout)

    # -------------------------------------------------------------- replies

    def _table(self, reports: list[HostLogs], matches_label: str) -> Table:
        rows = []
        for rep in reports:
            read = len(rep.counts)
            notes = []
            if rep.fault:
                notes.append(rep.fault)
            earlier = sum(rep.older.values())
            if earlier:
                notes.append(
                    ngettext(
                        "{count} earlier match before the window", "{count} earlier matches before the window", earlier
                    ).format(count=earlier)
                )
            if rep.skipped:
                notes.append(
                    ngettext("{count} older file not read", "{count} older files not read", len(rep.skipped)).format(
                        count=len(rep.skipped)
                    )
                )
            if rep.unreadable:
                notes.append(_("cannot read {files}").format(files=", ".join(_short(f) for f in rep.unreadable)))
            if rep.missing:
                notes.append(_("no files match {globs}").format(globs=", ".join(rep.missing)))
            rows.append([rep.host, "" if rep.fault and not read else str(rep.total), str(read), "; ".join(notes)])
        return Table(columns=[_("host"), matches_label, _("sources read"), _("notes")], rows=rows)

    def _search_reply(self, reports: list[HostLogs], pattern: str, where: str, span: str) -> Reply:
        total = sum(r.total for r in reports)
        failed = [r for r in reports if r.fault]
        hits = [r for r in reports if r.total]
        if len(failed) == len(reports):
            return Reply.error(" ".join(_ends(r.fault or "") for r in failed[:3]))
        text = _("“{pattern}” in {where}, last {span}: {lines} on {hits} of {hosts}").format(
            pattern=pattern,
            where=where,
            span=span,
            hits=len(hits),
            lines=ngettext("{count} matching line", "{count} matching lines", total).format(count=total),
            hosts=ngettext("{count} host", "{count} hosts", len(reports)).format(count=len(reports)),
        )
        if failed:
            text += " " + _("({count} could not be searched)").format(count=len(failed))
        budget = self.config.logs.max_lines
        share = max(1, budget // max(1, len(hits))) if hits else 0
        shown, out = 0, []
        for rep in reports:
            taken = 0
            for f, kind, body in rep.ordered_lines():
                if kind == "M":
                    if taken == share:
                        break
                    taken += 1
                out.append(f"{rep.host} {_short(f)}{':' if kind == 'M' else '-'} {body}")
            shown += taken
        if total > shown:
            out.append(
                ngettext(
                    "… {count} more matching line not shown", "… {count} more matching lines not shown", total - shown
                ).format(count=total - shown)
            )
        return Reply(text=text, tables=[self._table(reports, _("matches"))], code=redact("\n".join(out)) or None)

    def _errors_reply(self, reports: list[HostLogs], where: str, span: str) -> Reply:
        failed = [r for r in reports if r.fault]
        if len(failed) == len(reports):
            return Reply.error(" ".join(_ends(r.fault or "") for r in failed[:3]))
        drain = Drain()
        for rep in reports:
            for count, _file, example in rep.groups:
                drain.add(example, count=count, source=rep.host)
        templates = drain.templates()
        total = sum(r.total for r in reports)
        other = sum(r.other for r in reports) + drain.overflow
        text = _("{lines} in {where}, last {span}, in {templates}").format(
            where=where,
            span=span,
            lines=ngettext("{count} error line", "{count} error lines", total).format(count=total),
            templates=ngettext("{count} template", "{count} templates", len(templates)).format(count=len(templates)),
        )
        if failed:
            text += " " + ngettext(
                "({count} host could not be searched)", "({count} hosts could not be searched)", len(failed)
            ).format(count=len(failed))
        if other:
            text += _("; {count} lines too varied to group").format(count=other)
        # whole templates and examples (the chat front ends wrap long cells rather than cut them)
        rows = [
            [str(t.count), redact(t.text), redact(t.example), ", ".join(sorted(t.sources))]
            for t in templates[:TOP_TEMPLATES]
        ]
        tables = [
            Table(
                title=_("Top error templates"), columns=[_("count"), _("template"), _("example"), _("hosts")], rows=rows
            )
        ]
        if len(reports) > 1 or failed:
            tables.append(self._table(reports, _("error lines")))
        return Reply(text=text, tables=tables)


def _ends(text: str) -> str:
    return text if text.endswith((".", "?", "!")) else text + "."
