"""The SIP front: a Kamailio configuration that spreads new calls over the SIP workers.

Each worker holds at most four calls (the PJSIP build's limit), so with more than one worker Kamailio's
dispatcher module picks a worker per INVITE (round-robin), record-routes so that every later request of
the dialog (ACK, BYE, REFER, NOTIFY) reaches the same worker, and fails over: a worker that answers
486/503 (full or draining) or does not answer in time is skipped for the next one. When every worker
refuses, the caller gets 503 with Retry-After. Workers are probed with OPTIONS every second and taken
out of the rotation while they do not answer (a worker that died, or is being restarted).

It is also the edge that keeps hostile traffic away from PJSIP, which aborts (an ioqueue assertion) when
its socket table runs out: PJSUA opens an RTP and an RTCP socket for every audio `m=` line of an offer
(up to 16) before any application callback sees the INVITE, and a closed socket's slot stays taken for
500 ms, so three INVITEs with 16+ media lines abort a worker. The front refuses, before a worker sees
them, requests larger than `max_message_bytes` (513), SDP bodies with more than `max_media_lines`
`m=` lines (488), more than `invites_per_source` new INVITEs from one address in 2 s (503 +
Retry-After, Kamailio's pike module), and, with `calls_per_source` / `calls_per_caller`, a new call
from an address / a caller number that already has that many in progress (503 + Retry-After, Kamailio's
dialog profiles): one client, or one number behind a trunk, cannot hold every line of the centre. See
docs/sip.md for the measurements.

What it refuses never reaches a worker, so no call record or worker metric sees it: with
`metrics_port`, the front counts its refusals itself (`callbot_front_refused_requests_total`, by reason
and method) and serves them in Prometheus' format on 127.0.0.1 (Kamailio's xhttp_prom module), for
ops to see a saturated gateway or a flooding source. docs/ops.md.
"""

from __future__ import annotations

import shutil
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

KAMAILIO_MODULES = Path("/usr/lib/x86_64-linux-gnu/kamailio/modules")


@dataclass(frozen=True)
class FrontConfig:
    bind_address: str
    sip_port: int
    workers: tuple[tuple[str, int], ...]
    run_dir: Path
    retry_after_s: int = 10
    worker_timeout_ms: int = 1500
    transports: tuple[str, ...] = ("udp", "tcp")
    children: int = 2
    max_message_bytes: int = 4000
    max_media_lines: int = 4
    invites_per_source: int = 16
    #: How long the front remembers which worker took a Call-ID (for peers that ignore Record-Route).
    call_memory_s: int = 7200
    #: The address the trunk must call (written in the workers' REGISTER Contact): the public address
    #: when there is one, else `bind_address` (none when that is 0.0.0.0).
    advertised_address: str | None = None
    #: Where the front serves its refusal counters (`/metrics` on 127.0.0.1 only); None: not served.
    metrics_port: int | None = None
    #: Calls in progress one address may hold; None: no limit (behind an operator's trunk every call
    #: comes from the trunk's address: leave it unset there, or set it above the trunk's channels).
    calls_per_source: int | None = None
    #: Calls in progress one caller number (the From user) may hold; None: no limit. Works behind a
    #: trunk; hidden numbers ("anonymous", none) are not counted together.
    calls_per_caller: int | None = None

    def __post_init__(self) -> None:
        if not 1 <= self.max_media_lines <= 8:
            raise ValueError(f"max_media_lines: {self.max_media_lines} must be between 1 and 8")
        if not 1000 <= self.max_message_bytes <= 4000:
            # PJSIP's own receive buffer (PJSIP_MAX_PKT_LEN) is 4000 bytes: beyond it a body is cut.
            raise ValueError(f"max_message_bytes: {self.max_message_bytes} must be between 1000 and 4000")
        if self.invites_per_source < 1:
            raise ValueError(f"invites_per_source: {self.invites_per_source} must be at least 1")
        if self.metrics_port is not None and not 1024 <= self.metrics_port <= 65535:
            raise ValueError(f"front_metrics_port: {self.metrics_port} must be between 1024 and 65535")
        for name in ("calls_per_source", "calls_per_caller"):
            limit = getattr(self, name)
            if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int)):
                raise ValueError(f"{name}: {limit!r} must be a whole number of calls")
            if limit is not None and limit < 1:
                raise ValueError(f"{name}: {limit} must be at least 1 (unset: no limit)")
        if self.metrics_port is not None and self.metrics_port == self.sip_port:
            raise ValueError("front_metrics_port must differ from sip_port")


_TEMPLATE = """#!KAMAILIO
# Written by callbot.sip.kamailio: regenerated at each start, do not edit.
debug=2
log_stderror=yes
log_prefix="callbot-front "
fork=yes
children={children}
tcp_children={children}
auto_aliases=no
{listen}
alias="{bind}:{port}"
{metrics_listen}
mpath="{modules}"

loadmodule "corex.so"
loadmodule "tm.so"
loadmodule "tmx.so"
loadmodule "sl.so"
loadmodule "rr.so"
loadmodule "pv.so"
loadmodule "maxfwd.so"
loadmodule "textops.so"
loadmodule "siputils.so"
loadmodule "xlog.so"
loadmodule "sanity.so"
loadmodule "dispatcher.so"
loadmodule "pike.so"
loadmodule "htable.so"
{dialog_modules}{metrics_modules}

modparam("tm", "fr_timer", {worker_timeout_ms})
modparam("tm", "fr_inv_timer", 120000)
modparam("rr", "enable_full_lr", 1)
modparam("rr", "append_fromtag", 1)
modparam("dispatcher", "list_file", "{dispatcher_list}")
modparam("dispatcher", "flags", 2)
modparam("dispatcher", "xavp_dst", "_dsdst_")
modparam("dispatcher", "ds_ping_from", "sip:front@{bind}:{port}")
modparam("dispatcher", "ds_ping_interval", 1)
modparam("dispatcher", "ds_probing_mode", 1)
modparam("dispatcher", "ds_probing_threshold", 1)
modparam("dispatcher", "ds_inactive_threshold", 1)
modparam("dispatcher", "ds_ping_reply_codes", "class=2;code=404;code=405;code=503")
modparam("htable", "htable", "calls=>size=10;autoexpire={call_memory_s};")
modparam("pike", "sampling_time_unit", 2)
modparam("pike", "reqs_density_per_unit", {invites_per_source})
modparam("pike", "remove_latency", 4)

request_route {{
{metrics_guard}    if (!mf_process_maxfwd_header("10")) {{
        sl_send_reply("483", "Too Many Hops");
        exit;
    }}
    if ($ml > {max_message_bytes}) {{
        # PJSIP reads at most 4000 bytes: a longer INVITE would lose its SDP and hold a slot.
        xlog("L_WARN", "refused $rm from $si: $ml bytes\\n");
        $var(refused) = "too_large";
        route(COUNT_REFUSAL);
        if (!is_method("ACK")) {{
            sl_send_reply("513", "Message Too Large");
        }}
        exit;
    }}
    if (!sanity_check("17895", "7")) {{
        exit;
    }}
    if (search_body("{media_lines_regex}")) {{
        # Every audio m= line costs a worker two sockets before any code of ours runs (module doc);
        # any body is searched: PJSIP also takes the SDP out of a multipart one.
        xlog("L_WARN", "refused $rm from $si: more than {max_media_lines} media lines\\n");
        $var(refused) = "media_lines";
        route(COUNT_REFUSAL);
        if (!is_method("ACK")) {{
            append_to_reply("Warning: 399 callbot \\"at most {max_media_lines} media lines\\"\\r\\n");
            sl_send_reply("488", "Too Many Media Lines");
        }}
        exit;
    }}
    if (is_method("INVITE") && !has_totag() && !ds_is_from_list("1") && !pike_check_req()) {{
        xlog("L_WARN", "refused INVITE from $si: more than {invites_per_source} in 2 s\\n");
        $var(refused) = "source_rate";
        route(COUNT_REFUSAL);
        append_to_reply("Retry-After: {retry_after}\\r\\n");
        sl_send_reply("503", "Too Many Calls From This Address");
        exit;
    }}
    if (has_totag()) {{
{dialog_in_dialog}
        # In-dialog: follow the Record-Route this front put in, to the worker that owns the call.
        if (loose_route()) {{
            route(RELAY);
        }}
        if (is_method("ACK") && t_check_trans()) {{
            t_relay();
            exit;
        }}
        # A caller that ignored our Record-Route (SIPp does): the worker that answered, by Call-ID.
        if ($sht(calls=>$ci) != $null) {{
            $du = $sht(calls=>$ci);
            if (is_method("BYE")) {{
                sht_rm("calls", "$ci");
            }}
            route(RELAY);
        }}
        if (!is_method("ACK")) {{
            sl_send_reply("404", "Not Here");
        }}
        exit;
    }}
    if (is_method("CANCEL")) {{
        if (t_check_trans()) {{
            route(RELAY);
        }}
        exit;
    }}
    if (t_check_trans()) {{
        exit;
    }}
    if (ds_is_from_list("1")) {{
        # A worker's own request (a call-back's INVITE, the trunk REGISTER): workers listen on loopback
        # only, so what they start goes out through here, record-routed so that the answers come back.
        loose_route();  # the Route to this front, put there by the worker's outbound proxy setting
        if (is_method("REGISTER")) {{
            # The trunk must call the front, not a loopback address it cannot reach.
            {register_contact}
        }} else {{
            record_route();
            # For a callee that ignores Record-Route too (see the in-dialog branch above).
            $sht(calls=>$ci) = "sip:" + $si + ":" + $sp;
        }}
        route(RELAY);
    }}
    if (is_method("OPTIONS") && uri == myself && $rU == $null) {{
        sl_send_reply("200", "OK");
        exit;
    }}
    if (!is_method("INVITE")) {{
        sl_send_reply("405", "Method Not Allowed");
        exit;
    }}
{dialog_limit}    record_route();
    if (!ds_select_dst("1", "4")) {{
        route(ALL_BUSY);
    }}
    t_on_failure("NEXT_WORKER");
    t_on_branch("TO_WORKER");
    route(RELAY);
}}

route[RELAY] {{
    if (!t_relay()) {{
        sl_reply_error();
    }}
    exit;
}}

branch_route[TO_WORKER] {{
    # Branches are tried one after the other: the last one remembered is the worker that answered.
    $sht(calls=>$ci) = $du;
}}

route[ALL_BUSY] {{
    $var(refused) = "all_workers_busy";
    route(COUNT_REFUSAL);
    append_to_reply("Retry-After: {retry_after}\\r\\n");
    sl_send_reply("503", "All Workers Busy");
    exit;
}}

failure_route[NEXT_WORKER] {{
    if (t_is_canceled()) {{
        exit;
    }}
    # 503/486: the worker is draining or full; 408/480/477/478 and no reply: it is gone or unreachable.
    if (t_check_status("408|477|478|480|486|500|503") || (t_branch_timeout() && !t_branch_replied())) {{
        if (!t_branch_replied() || t_check_status("408|477|478|480")) {{
            ds_mark_dst("ip");
        }}
        if (ds_next_dst()) {{
            t_on_failure("NEXT_WORKER");
            t_on_branch("TO_WORKER");
            t_relay();
            exit;
        }}
        $var(refused) = "all_workers_busy";
        route(COUNT_REFUSAL);
        append_to_reply("Retry-After: {retry_after}\\r\\n");
        t_reply("503", "All Workers Busy");
    }}
}}

route[COUNT_REFUSAL] {{
    {count_refusal}
}}
{metrics_route}"""

# Calls in progress per source address and per caller number: dialog profiles keyed by the address
# (`calls_from`) and the From user (`calls_by_caller`), counted from the INVITE to its BYE (or its
# failure). dlg_manage() in the in-dialog branch matches a request by Call-ID and tags, so a BYE from a
# caller that ignores Record-Route (it lacks the dialog's cookie and goes through the `calls` table)
# still ends the dialog.
_DIALOG_MODULES = """loadmodule "dialog.so"
modparam("dialog", "profiles_with_value", "calls_from;calls_by_caller")
modparam("dialog", "dlg_match_mode", 1)
modparam("dialog", "default_timeout", {dialog_timeout_s})
"""

_DIALOG_IN_DIALOG = "        dlg_manage();"

_CALL_LIMIT = """get_profile_size("{profile}", "{key}", "$var(calls)");
if ($var(calls) >= {limit}) {{
    xlog("L_WARN", "refused INVITE from {key}: {limit} calls in progress already\\n");
    $var(refused) = "{reason}";
    route(COUNT_REFUSAL);
    append_to_reply("Retry-After: {retry_after}\\r\\n");
    sl_send_reply("503", "Too Many Calls From This {whom}");
    exit;
}}
dlg_manage();
set_dlg_profile("{profile}", "{key}");
"""

# Hidden numbers (no From user, or "anonymous") are different callers: never counted together.
_KNOWN_CALLER = """if ($fU != $null && $fU != "" && !($(fU{{s.tolower}}) =~ "^anonymous$")) {{
{limit}}}
"""


def _call_limits(front: FrontConfig) -> str:
    """The request_route lines that refuse a new call past `calls_per_source` / `calls_per_caller`."""
    lines = ""
    if front.calls_per_source:
        lines += _CALL_LIMIT.format(
            profile="calls_from",
            key="$si",
            limit=front.calls_per_source,
            reason="source_calls",
            whom="Address",
            retry_after=front.retry_after_s,
        )
    if front.calls_per_caller:
        per_caller = _CALL_LIMIT.format(
            profile="calls_by_caller",
            key="$fU",
            limit=front.calls_per_caller,
            reason="caller_calls",
            whom="Number",
            retry_after=front.retry_after_s,
        )
        lines += _KNOWN_CALLER.format(limit=textwrap.indent(per_caller, "    "))
    return textwrap.indent(lines, "    ")


_METRICS_MODULES = """loadmodule "xhttp.so"
loadmodule "xhttp_prom.so"
modparam("xhttp_prom", "xhttp_prom_beginning", "callbot_front_")
modparam("xhttp_prom", "xhttp_prom_timeout", 0)
modparam("xhttp_prom", "prom_counter", "name=refused_requests_total; label=reason:method")"""

# xhttp needs `tcp_accept_no_cl`, which is global: SIP over TCP must still carry a Content-Length
# (RFC 3261 18.3), and the loopback metrics socket carries no SIP at all.
_METRICS_GUARD = """    if ($Rp == {port}) {{
        drop;
    }}
    if ($pr == "tcp" && !is_present_hf("Content-Length")) {{
        sl_send_reply("400", "Content-Length Required");
        exit;
    }}
"""

_METRICS_ROUTE = """
event_route[xhttp:request] {{
    # HTTP reaches every TCP socket of the front: the counters are served on the loopback port only.
    if ($Rp != {port} || $Ri != "127.0.0.1") {{
        xhttp_reply("403", "Forbidden", "text/plain", "");
        exit;
    }}
    if (prom_check_uri()) {{
        prom_dispatch();
        exit;
    }}
    xhttp_reply("404", "Not Found", "text/plain", "the front serves /metrics only\\n");
}}
"""


def render_config(front: FrontConfig) -> str:
    advertised = front.advertised_address or (front.bind_address if front.bind_address != "0.0.0.0" else None)
    listen = "\n".join(f"listen={t}:{front.bind_address}:{front.sip_port}" for t in front.transports)
    dialogs = bool(front.calls_per_source or front.calls_per_caller)
    return _TEMPLATE.format(
        children=front.children,
        listen=listen,
        bind=front.bind_address,
        port=front.sip_port,
        modules=KAMAILIO_MODULES,
        worker_timeout_ms=front.worker_timeout_ms,
        dispatcher_list=front.run_dir / "dispatcher.list",
        retry_after=front.retry_after_s,
        max_message_bytes=front.max_message_bytes,
        max_media_lines=front.max_media_lines,
        media_lines_regex=media_lines_regex(front.max_media_lines + 1),
        invites_per_source=front.invites_per_source,
        call_memory_s=front.call_memory_s,
        metrics_listen=(
            f"listen=tcp:127.0.0.1:{front.metrics_port}\ntcp_accept_no_cl=yes" if front.metrics_port else ""
        ),
        metrics_modules=_METRICS_MODULES if front.metrics_port else "",
        metrics_guard=_METRICS_GUARD.format(port=front.metrics_port) if front.metrics_port else "",
        count_refusal=(
            'prom_counter_inc("refused_requests_total", "1", "$var(refused)", "$rm");'
            if front.metrics_port
            else "return;  # no counters: front_metrics_port is not set"
        ),
        metrics_route=_METRICS_ROUTE.format(port=front.metrics_port) if front.metrics_port else "",
        dialog_modules=_DIALOG_MODULES.format(dialog_timeout_s=front.call_memory_s) if dialogs else "",
        dialog_in_dialog=_DIALOG_IN_DIALOG if dialogs else "",
        dialog_limit=_call_limits(front),
        register_contact=(
            f'subst_hf("Contact", "/@127\\.0\\.0\\.1:[0-9]+/@{advertised}:{front.sip_port}/", "a");'
            if advertised
            else "# bound to 0.0.0.0 and no public address: nothing to advertise"
        ),
    )


def media_lines_regex(count: int) -> str:
    """A POSIX regex (as written inside a Kamailio string) matching a body with `count` or more `m=`
    lines. A line starts after CR or LF: PJSIP's SDP parser accepts either alone as a line end."""
    line_start = "[\\r\\n]m="
    return f"{line_start}((.|[\\r\\n])*{line_start}){{{count - 1}}}"


def render_dispatcher_list(workers: Sequence[tuple[str, int]]) -> str:
    """Set 1 holds every worker; `setid destination flags priority` per line."""
    return "".join(f"1 sip:{host}:{port} 0 0\n" for host, port in workers)


def write_front(front: FrontConfig) -> Path:
    """Write kamailio.cfg and dispatcher.list into the run directory; returns the config path."""
    front.run_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    for name, text in (
        ("dispatcher.list", render_dispatcher_list(front.workers)),
        ("kamailio.cfg", render_config(front)),
    ):
        path = front.run_dir / name
        path.touch(mode=0o600)
        path.chmod(0o600)
        path.write_text(text)
    config = front.run_dir / "kamailio.cfg"
    return config


def kamailio_command(front: FrontConfig, config: Path, executable: str | None = None) -> list[str]:
    """Foreground Kamailio (-DD), logging to stderr (-E), its runtime files in the run directory."""
    binary = executable or shutil.which("kamailio") or "/usr/sbin/kamailio"
    return [
        binary,
        "-DD",
        "-E",
        "-f",
        str(config),
        "-P",
        str(front.run_dir / "kamailio.pid"),
        "-Y",
        str(front.run_dir),
        "-m",
        "64",
        "-M",
        "8",
    ]
