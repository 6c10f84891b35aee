"""Pinecone's REST data plane: the HTTP transport seam, sans-IO request targets and parsing, the client."""
