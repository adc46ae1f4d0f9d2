"""Archive assembly: file-name patterns, the BagIt-in-ZIP writer and the offline verifier."""
