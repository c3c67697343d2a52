"""What evaluators take away: exports, the codebook, the impact report and invite sheets."""
