"""The release helpers: publish an image, its SBOM and the chart to an OCI registry (`make publish`)."""
