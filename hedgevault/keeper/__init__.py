"""hedgevault.keeper"""
