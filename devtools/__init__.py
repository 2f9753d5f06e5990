"""Tools for developers, outside the runtime packages: the throwaway stack that the
scenario runner and the benchmarks boot, and the scenario runner itself."""
