print("plugd")
