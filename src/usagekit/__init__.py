"""usagekit: self-hosted usage metering."""

__version__ = "0.1.0"
