"""A real Jupyter kernel (ipykernel through jupyter_client) to run cells in, as a notebook does."""

from __future__ import annotations

import os
import queue

from jupyter_client.manager import KernelManager


class Cell:
    def __init__(self) -> None:
        self.stdout = ""
        self.stderr = ""
        self.error: dict | None = None
        self.results: list[dict] = []

    @property
    def text(self) -> str:
        return self.stdout + self.stderr


class Kernel:
    def __init__(self, env: dict[str, str] | None = None, cwd: str | None = None) -> None:
        self.km = KernelManager(kernel_name="python3")
        self.km.start_kernel(env={**os.environ, **(env or {})}, cwd=cwd)
        self.kc = self.km.client()
        self.kc.start_channels()
        self.kc.wait_for_ready(timeout=60)

    def run(self, code: str, timeout: float = 60) -> Cell:
        """Execute a cell and collect what it printed, returned or raised."""
        msg_id = self.kc.execute(code)
        cell = Cell()
        while True:
            try:
                msg = self.kc.get_iopub_msg(timeout=timeout)
            except queue.Empty:
                raise TimeoutError(f"the cell did not finish in {timeout} s:\n{code}") from None
            if msg["parent_header"].get("msg_id") != msg_id:
                continue
            kind, content = msg["msg_type"], msg["content"]
            if kind == "stream":
                if content["name"] == "stdout":
                    cell.stdout += content["text"]
                else:
                    cell.stderr += content["text"]
            elif kind == "error":
                cell.error = content
            elif kind in ("execute_result", "display_data"):
                cell.results.append(content["data"])
            elif kind == "status" and content["execution_state"] == "idle":
                return cell

    def value(self, expression: str):
        """The value of an expression in the kernel (through its repr)."""
        import ast

        cell = self.run(f"print(repr({expression}))")
        assert cell.error is None, cell.error
        return ast.literal_eval(cell.stdout.strip())

    def close(self) -> None:
        self.kc.stop_channels()
        self.km.shutdown_kernel(now=False)
