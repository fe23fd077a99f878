"""Dialog engine cost: loading the default flow, starting a call, and CPU time per caller turn.

    python bench/dialog_bench.py [--rounds 20]

The dialog runs on the call's worker thread between the recogniser's final result and the first synthesised
prompt, so its turn time adds directly to the bot's response latency.
"""

from __future__ import annotations

import argparse
import statistics
import time
from datetime import datetime
from zoneinfo import ZoneInfo

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=ZoneInfo("Europe/Paris"))

SCRIPTS: tuple[tuple[str, ...], ...] = (
    ("quels sont vos horaires", "Lyon", "non merci"),
    (
        "où en est ma commande 458129",
        "oui",
        "est-ce que vous avez la lampe de chevet Nuage",
        "à Lille",
        "non",
    ),
    ("je voudrais être rappelé", "demain à quinze heures", "oui"),
    ("rappelez-moi lundi prochain à dix heures", "non", "jeudi à dix heures et demie", "oui"),
    ("la météo à Brest", "le prix du pain", "je voudrais parler à un conseiller"),
    ("j'ai reçu ma lampe et elle est arrivée cassée",),
    ("quelle est l'adresse du magasin de Marseille", "oui", "au revoir"),
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20, help="times each script is replayed")
    args = parser.parse_args()

    started = time.perf_counter()
    from callbot.dialog import Conversation, default_flow_path, load_flow

    imported = time.perf_counter()
    flow = load_flow(default_flow_path())
    loaded = time.perf_counter()
    Conversation(flow, now=lambda: NOW, caller="+33612345678")
    first_call = time.perf_counter()
    creations: list[float] = []
    turns: list[float] = []
    cold: list[float] = []
    for round_number in range(args.rounds + 1):
        if round_number == 1:
            # The first pass fills the NLU's caches (normalised text, compiled rules): reported apart.
            cold, turns, creations = turns, [], []
        for script in SCRIPTS:
            begin = time.perf_counter()
            conversation = Conversation(flow, now=lambda: NOW, caller="+33612345678")
            conversation.start()
            creations.append(time.perf_counter() - begin)
            for text in script:
                if conversation.ended:
                    break
                begin = time.perf_counter()
                conversation.hear(text)
                turns.append(time.perf_counter() - begin)

    def ms(seconds: float) -> str:
        return f"{seconds * 1000:.1f} ms"

    turns.sort()
    print(f"import callbot.dialog + NLU:        {ms(imported - started)}")
    print(f"load_flow(retail.yaml) + data:      {ms(loaded - imported)}")
    print(f"first Conversation (builds matcher): {ms(first_call - loaded)}")
    print(f"Conversation + start(), median:     {ms(statistics.median(creations))}")
    print(f"turn, median:                       {ms(statistics.median(turns))}")
    print(f"turn, p95:                          {ms(turns[int(len(turns) * 0.95)])}")
    print(f"turn, max:                          {ms(turns[-1])}")
    print(f"turns measured:                     {len(turns)} (after a first pass: max {ms(max(cold))})")


if __name__ == "__main__":
    main()
