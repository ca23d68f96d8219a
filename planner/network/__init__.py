"""The multimodal network: model, build and cache, streets, timetable, footpaths, places, fares."""
