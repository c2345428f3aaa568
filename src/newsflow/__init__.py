"""newsflow: dermatology research in, plain-language news drafts out."""

__version__ = "0.1.0"
