"""善治 Shanzhi: a grassroots-governance platform for Chinese subdistricts."""
