//! Git: the lines added in staged changes or since a revision.
