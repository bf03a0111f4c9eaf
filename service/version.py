"""The one place the project's version is written; pyproject, the image labels and the chart read it."""

VERSION = "0.1.0"
