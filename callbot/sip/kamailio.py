"""The SIP front: a Kamailio configuration that spreads new calls over the SIP workers.

Each worker holds at most four calls (the PJSIP build's limit), so with more than one worker Kamailio's
dispatcher module picks a worker per INVITE (round-robin), record-routes so that every later request of
the dialog (ACK, BYE, REFER, NOTIFY) reaches the same worker, and fails over: a worker that answers
486/503 (full or draining) or does not answer in time is skipped for the next one. When every worker
refuses, the caller gets 503 with Retry-After. Workers are probed with OPTIONS every second and taken
out of the rotation while they do not answer (a worker that died, or is being restarted).
"""

from __future__ import annotations

import shutil
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

request_route {{
    if (!mf_process_maxfwd_header("10")) {{
        sl_send_reply("483", "Too Many Hops");
        exit;
    }}
    if (!sanity_check("17895", "7")) {{
        exit;
    }}
    if (has_totag()) {{
        # In-dialog: follow the Record-Route this front put in, to the worker that owns the call.
        if (loose_route()) {{
            route(RELAY);
        }}
        if (is_method("ACK") && t_check_trans()) {{
            t_relay();
            exit;
        }}
        sl_send_reply("404", "Not Here");
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
    if (is_method("OPTIONS") && uri == myself && $rU == $null) {{
        sl_send_reply("200", "OK");
        exit;
    }}
    if (!is_method("INVITE")) {{
        sl_send_reply("405", "Method Not Allowed");
        exit;
    }}
    record_route();
    if (!ds_select_dst("1", "4")) {{
        route(ALL_BUSY);
    }}
    t_on_failure("NEXT_WORKER");
    route(RELAY);
}}

route[RELAY] {{
    if (!t_relay()) {{
        sl_reply_error();
    }}
    exit;
}}

route[ALL_BUSY] {{
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
            t_relay();
            exit;
        }}
        append_to_reply("Retry-After: {retry_after}\\r\\n");
        t_reply("503", "All Workers Busy");
    }}
}}
"""


def render_config(front: FrontConfig) -> str:
    listen = "\n".join(f"listen={t}:{front.bind_address}:{front.sip_port}" for t in front.transports)
    return _TEMPLATE.format(
        children=front.children,
        listen=listen,
        bind=front.bind_address,
        port=front.sip_port,
        modules=KAMAILIO_MODULES,
        worker_timeout_ms=front.worker_timeout_ms,
        dispatcher_list=front.run_dir / "dispatcher.list",
        retry_after=front.retry_after_s,
    )


def render_dispatcher_list(workers: Sequence[tuple[str, int]]) -> str:
    """Set 1 holds every worker; `setid destination flags priority` per line."""
    return "".join(f"1 sip:{host}:{port} 0 0\n" for host, port in workers)


def write_front(front: FrontConfig) -> Path:
    """Write kamailio.cfg and dispatcher.list into the run directory; returns the config path."""
    front.run_dir.mkdir(parents=True, exist_ok=True)
    (front.run_dir / "dispatcher.list").write_text(render_dispatcher_list(front.workers))
    config = front.run_dir / "kamailio.cfg"
    config.write_text(render_config(front))
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
