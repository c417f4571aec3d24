"""The lake I/O layer: the one seam between ACORN and where its Parquet lives.

Every writer and every reader of the lake goes through this package, whichever domain it serves (settlements,
finances, vendor orders, the warehouse's views, the checks). It is outside every orchestration domain so none of
them imports another to reach the lake, and it is where scale-out adds the object store (lake/store.py):

- `lake.layout`: where a dataset's files are (`<lake>/<dataset>/<partition>/part-0.parquet`), which of them are
  published, the staging area beside the lake and the writers lock (atomic publish by rename);
- `lake.partitions`: partition naming and the atomic, byte-stable partition write the API datasets use;
- `lake.read`: every read of lake Parquet, with one set of `read_parquet` options (the published file list, the
  SELECT over it, a DuckDB relation, an Arrow table).
- `lake.store`: in scale-out (an s3:// ACORN_OBJECT_STORE_URL), every partition also published on the object
  store, replaced for readers by one pointer object per partition; the DuckLake catalog's lake views read it;
- `lake.memory`: DuckDB connections with a memory limit and a private spill folder, for every reader of the
  lake or the warehouse (a step stays under 1 GiB at any history size).

The settlement import's own two-file publish (lines, then the settlements row as commit marker, with a journal)
lives with the settlement transform (transforms/settlement/lake.py) and stages through `lake.layout`.
"""
