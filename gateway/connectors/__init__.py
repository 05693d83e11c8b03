"""The only code that speaks vendor HTTP: Cityworks, OpenGov, the ArcGIS geocoder, city widget endpoints."""
