import MkosiCore
