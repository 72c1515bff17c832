"""CICA-KG: the Conference on Interaction and Confidence Building Measures in Asia as a
sourced, time-aware knowledge graph, published through SPARQL."""

__version__ = "1.0.0"
