"""The offline toy: a moulded plastic figure of the person in the photo, dressed in the theme's costume."""
