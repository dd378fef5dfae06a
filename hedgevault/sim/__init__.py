"""hedgevault.sim"""
