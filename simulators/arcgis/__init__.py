"""The ArcGIS geocoder simulator: Esri's World Geocoder or a customer's ArcGIS Server locator."""

from __future__ import annotations

from simulators.kit import SimulatorSpec

from .actions import ACTIONS
from .config import ArcgisConfig, add_arguments, config_from_args
from .dialect import DIALECT
from .routes import ROUTES
from .state import GeocoderState

SPEC = SimulatorSpec(
    name="arcgis",
    contract="arcgis-geocode",
    dialect=DIALECT,
    new_backend=GeocoderState,
    routes=ROUTES,
    config_type=ArcgisConfig,
    actions=ACTIONS,
    add_arguments=add_arguments,
    config_from_args=config_from_args,
    description="ArcGIS REST GeocodeServer: reverseGeocode and findAddressCandidates",
)


create_app = SPEC.create_app

__all__ = ["SPEC", "ArcgisConfig", "GeocoderState", "create_app"]
