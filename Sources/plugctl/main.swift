print("plugctl")
