"""The store layer: the GraphStore protocol, the embedded pyoxigraph backend, the change log and
the journal that every write goes through."""
