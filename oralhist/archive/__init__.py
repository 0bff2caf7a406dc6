"""Archive layer: the workspace, ingesting files, audio derivatives, probing, fixity and images."""
