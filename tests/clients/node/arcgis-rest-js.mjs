// Drives Esri's @esri/arcgis-rest-geocoding, unmodified, against the endpoint given (the only setting changed).
// Prints one JSON object: what each call returned, or the error it raised.
import { geocode, reverseGeocode, suggest } from "@esri/arcgis-rest-geocoding";
import { outcome } from "./outcome.mjs";

const { endpoint, lat, lon, address } = JSON.parse(process.argv[2]);
console.log(
  JSON.stringify({
    reverse: await outcome(reverseGeocode({ latitude: lat, longitude: lon }, { endpoint })),
    reverseGet: await outcome(reverseGeocode({ latitude: lat, longitude: lon }, { endpoint, httpMethod: "GET" })),
    geocode: await outcome(geocode({ address, endpoint })),
    singleLine: await outcome(geocode({ singleLine: address, endpoint, params: { outFields: "*" } })),
    suggest: await outcome(suggest(address, { endpoint })),
  }),
);
