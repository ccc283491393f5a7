"""Who the customers are: identities across channels, merging, the facts and files kept on them, and their signed portal links."""
