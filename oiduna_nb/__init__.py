"""oiduna_nb: a Jupyter-native live-coding loop engine.

``%load_ext oiduna_nb`` starts the engine (``oiduna_nb.engine``) and the HTTP/SSE API
(``oiduna_nb.server``) in the kernel; ``from oiduna_nb.dsl import *`` gives the live-coding
words and ``oiduna_nb.widgets`` the mixer and transport.
"""

__version__ = "0.1.0"


def load_ipython_extension(ipython):  # the imports wait until a kernel asks
    from .extension import load_ipython_extension as load

    load(ipython)


def unload_ipython_extension(ipython):
    from .extension import unload_ipython_extension as unload

    unload(ipython)


def start(**settings):
    """Start the engine and API in this process without IPython (settings override env/.env)."""
    from .extension import start as _start

    return _start(**settings)


def shutdown():
    from .extension import shutdown as _shutdown

    _shutdown()
