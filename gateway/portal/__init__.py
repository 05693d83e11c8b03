"""The Citizen Portal side of integration widgets: talking to city widget APIs, rendering their content,
citizens' dashboards, account linking and notifications."""
