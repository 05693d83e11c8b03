// Drives the geocoder-arcgis package, unmodified, against the endpoint given (its `endpoint` option, the only
// setting changed). Prints one JSON object: what each call returned, or the error it raised.
import GeocoderArcGIS from "geocoder-arcgis";
import { outcome } from "./outcome.mjs";

const { endpoint, lat, lon, address } = JSON.parse(process.argv[2]);
const geocoder = new GeocoderArcGIS({ endpoint: `${endpoint}/` });
console.log(
  JSON.stringify({
    findAddressCandidates: await outcome(geocoder.findAddressCandidates(address, { outFields: "*" })),
    geocode: await outcome(geocoder.geocode(address)),
    reverse: await outcome(geocoder.reverse(`${lon},${lat}`)),
    suggest: await outcome(geocoder.suggest(address)),
  }),
);
