"""Score and train on corpora larger than memory, with Dask.

Scoring (:func:`score_files`, ``veracity batch``)
-------------------------------------------------
1. **Plan** (on the client, streaming, constant memory): every input file (CSV, TSV,
   JSON Lines, Parquet; the text formats may be gzipped) is cut into partitions of at
   most ``partition_rows`` rows. CSV/TSV/JSONL are scanned once for the byte offset of
   every ``partition_rows``-th record (a CSV record may span lines: quoted newlines
   are respected); gzip files are first decompressed to ``OUTPUT/_staging``; Parquet
   partitions are row ranges inside one row group. The plan is written to
   ``OUTPUT/_plan.json``; a rerun with another plan (other inputs, partition size,
   columns or model) is refused instead of mixing two runs.
2. **Score**: one ``distributed`` task per pending partition reads it on a worker,
   scores it with the same :class:`~veracity.detector.Detector` as ``check_many``
   (loaded and verified once per worker process), then writes
   ``OUTPUT/part-NNNNN.parquet`` (``id, label, probability, abstained, model_id``)
   and ``OUTPUT/_rejects/part-NNNNN.parquet`` (``source, row, id, reason``). Each file
   is written to a temporary name and moved into place with :func:`os.replace`, rejects
   first, so a scored part exists only when its partition is complete.
3. **Resume**: a rerun skips the partitions whose scored part exists; stale temporary
   files of an interrupted run are removed. Counts are read back from the parts' metadata.

The output folder is batch's own: ``OUTPUT/.veracity-batch.json`` lists every file a run
writes, each listed before it is written, and only listed files (and their temporary
files) are ever overwritten or removed. A blank ``--output``, a folder that holds an input,
and a folder holding any file the manifest does not list (or a non-empty folder without
one) are refused before anything is written (see :mod:`veracity.batch.output`).

``pandas.read_parquet(OUTPUT)`` (or ``dask.dataframe.read_parquet``) reads the scored
rows only: readers skip names starting with ``_`` or ``.``.

Bad rows never stop a run and are never dropped silently: a missing text, an empty text,
undecodable bytes (not UTF-8), a malformed record, an empty id, or a document over
``settings.max_document_bytes`` goes to the rejects with its reason.

Out-of-core training (``veracity train --engine dask``)
-------------------------------------------------------
:func:`veracity.training.train` with ``engine="dask"`` runs :mod:`veracity.batch.training`.
Workers read and :func:`~veracity.text.prepare` partitions; the client feeds them to
``HashingSGDClassifier.partial_fit`` for ``epochs`` passes, in a seeded shuffled
partition order, pooling and shuffling the rows of ``mix`` partitions at a time (SGD
learns badly from partitions that each hold one label, as in a file sorted by label).
The model calibrates itself on a held-out reservoir it never trains on (see
:mod:`veracity.models.hashing`). Held-out rows are chosen by a salted hash of the prepared text
(``test_size`` of the hash space), so exact duplicates always fall on the same side.
Near-duplicate removal (MinHash) needs the whole corpus and is not done; exact
duplicates are dropped within each epoch with a set of 64-bit hashes (memory
O(unique rows) small ints).

Dask and distributed are imported inside the functions that use them.
"""

from veracity.batch.partitions import (
    DEFAULT_PARTITION_ROWS,
    Columns,
    Partition,
    expand_inputs,
    plan_partitions,
    read_partition,
)
from veracity.batch.scoring import BatchResult, cluster_client, score_files, score_frame

__all__ = [
    "DEFAULT_PARTITION_ROWS",
    "BatchResult",
    "Columns",
    "Partition",
    "cluster_client",
    "expand_inputs",
    "plan_partitions",
    "read_partition",
    "score_files",
    "score_frame",
]
