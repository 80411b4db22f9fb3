"""BGP state read from each platform's structured output (JSON where the CLI has it, TextFSM otherwise):
one module per output dialect, each an `Observer` a driver names (`Driver.observer_class`)."""
