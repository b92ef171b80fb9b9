"""Resolvers: turn floating inputs (refs, tags, requirements, URLs) into pins."""
