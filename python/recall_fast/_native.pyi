"""Hand-written stub of the native extension, checked by ``stubtest``."""

__version__: str
build_profile: str
