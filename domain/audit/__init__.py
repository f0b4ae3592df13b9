"""The audit trail's proof that history was not rewritten: each service's stored events, in
notification order, are the leaves of an append-only Merkle tree (RFC 9162), whose heads are
signed as checkpoints (C2SP tlog-checkpoint in a C2SP signed note, Ed25519).

- ``merkle``: leaf and node hashes, the tree head kept in O(log n) memory, inclusion and
  consistency proofs and their checking;
- ``note``: signed notes and their keys, as golang.org/x/mod/sumdb/note writes them;
- ``checkpoint``: the checkpoint text in a signed note;
- ``leaves``: the leaf data of a stored event, byte by byte;
- ``tamper``: a log read against what its checkpoints covered, and the first event that differs.

Pure: no I/O. The services keep the tables and sign (``services.platform.audit``).
"""
