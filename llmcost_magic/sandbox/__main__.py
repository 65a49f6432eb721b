"""python -m llmcost_magic.sandbox [--port P] [--host H] [--seed S]: serve the sandbox until Ctrl-C."""

from __future__ import annotations

import argparse
import time

from .engine import Sandbox
from .server import serve


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m llmcost_magic.sandbox", description=__doc__)
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    server = serve(args.port, args.host, Sandbox(seed=args.seed))
    print(f"llmcost sandbox (simulated, offline) on {server.url}")
    print(f"  OpenAI:    base_url={server.openai_base_url}  api_key=anything")
    print(f"  Anthropic: base_url={server.anthropic_base_url}  api_key=anything")
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        server.stop()


if __name__ == "__main__":
    main()
