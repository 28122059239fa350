"""Personal data: export everything stored about a person, or erase them."""
