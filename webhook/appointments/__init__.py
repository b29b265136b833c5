"""The page a booking's signed link opens (from an SMS reminder): confirm or cancel it."""
