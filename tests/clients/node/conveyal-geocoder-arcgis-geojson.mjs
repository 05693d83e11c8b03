// Drives @conveyal/geocoder-arcgis-geojson (Conveyal's trip planners' geocoder), unmodified, against the
// endpoint given (its `url` option, the only setting changed). Prints what each call returned or raised.
import { autocomplete, reverse, search } from "@conveyal/geocoder-arcgis-geojson";
import { outcome } from "./outcome.mjs";

const { endpoint, lat, lon, address } = JSON.parse(process.argv[2]);
const url = `${endpoint}/`;
const boundary = { rect: { minLon: lon - 0.05, maxLon: lon + 0.05, minLat: lat - 0.05, maxLat: lat + 0.05 } };
console.log(
  JSON.stringify({
    search: await outcome(search({ text: address, url, boundary, focusPoint: { lat, lon } })),
    reverse: await outcome(reverse({ point: { lat, lon }, url })),
    autocomplete: await outcome(autocomplete({ text: address, url, focusPoint: { lat, lon } })),
  }),
);
