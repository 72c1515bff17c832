"""Page models: what the pages for people show (a resource, search hits, the membership
timeline, the ontology's documentation, the endpoint's service description), computed from
query answers. No Flask here; web/ renders them. Importing the package loads nothing."""
