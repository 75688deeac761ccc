"""Jobs: the SwapJob description, the one runner behind every front end, and the frame stream."""
