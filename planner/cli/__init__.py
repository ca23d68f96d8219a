"""The ``plan`` command line (click). Library code never imports this package."""
